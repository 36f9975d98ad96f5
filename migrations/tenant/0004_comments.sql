CREATE TABLE comments (
  id         bigint PRIMARY KEY,            -- Jira's comment id
  issue_id   bigint NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
  author     text NOT NULL,
  body       text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz
);
CREATE INDEX comments_issue_created ON comments (issue_id, created_at);
