DROP INDEX issues_labels;
ALTER TABLE issues DROP COLUMN labels, DROP COLUMN priority;
