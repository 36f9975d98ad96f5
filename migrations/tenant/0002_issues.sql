-- Issues mirrored from Jira, treated exactly like data customers enter themselves.
CREATE TABLE issues (
  id          bigint PRIMARY KEY,           -- Jira's issue id
  project_id  bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  key         text NOT NULL UNIQUE,
  summary     text NOT NULL,
  status      text NOT NULL,
  assignee    text,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
CREATE INDEX issues_project_updated ON issues (project_id, updated_at DESC);
CREATE INDEX issues_assignee ON issues (assignee) WHERE assignee IS NOT NULL;
