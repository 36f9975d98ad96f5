-- Alters a table made by 0002: Jira labels and priority, searchable by label.
ALTER TABLE issues
  ADD COLUMN labels   text[] NOT NULL DEFAULT '{}',
  ADD COLUMN priority text;
CREATE INDEX issues_labels ON issues USING gin (labels);
