-- Jira projects the add-on has seen for this site.
CREATE TABLE projects (
  id           bigint PRIMARY KEY,          -- Jira's project id
  key          text NOT NULL UNIQUE,
  name         text NOT NULL,
  project_type text NOT NULL DEFAULT 'software',
  synced_at    timestamptz NOT NULL DEFAULT now()
);
