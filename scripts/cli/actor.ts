import { userInfo } from 'node:os';

/** Who acts, for the audit trail: FLEET_ACTOR, else the CI pipeline, else the OS user. */
export function currentActor(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLEET_ACTOR) return env.FLEET_ACTOR;
  if (env.GITHUB_ACTIONS === 'true') {
    return `github:${env.GITHUB_REPOSITORY ?? '?'}/${env.GITHUB_WORKFLOW ?? '?'}#${env.GITHUB_RUN_ID ?? '?'} (${env.GITHUB_ACTOR ?? '?'})`;
  }
  if (env.CI) return `ci:${env.CI_PIPELINE_ID ?? env.BUILD_ID ?? 'pipeline'}`;
  try {
    return `user:${userInfo().username}`;
  } catch {
    return `user:${env.USER ?? 'unknown'}`;
  }
}
