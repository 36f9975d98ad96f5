CREATE TABLE issue_links (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_issue_id bigint NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
  target_issue_id bigint NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
  link_type      text NOT NULL,
  UNIQUE (source_issue_id, target_issue_id, link_type),
  CHECK (source_issue_id <> target_issue_id)
);
CREATE INDEX issue_links_target ON issue_links (target_issue_id);
