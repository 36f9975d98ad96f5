export { checkMigrations, type CheckOptions, type CheckProblem, type CheckProblemKind, type CheckReport } from './check-migrations.ts';
export { checkFleetMigrations } from './check-fleet.ts';
