-- The service whose imported OpenAPI specification created a policy: a re-import or the
-- removal of the specification removes the policies it created unless something else uses them.
ALTER TABLE policies ADD COLUMN imported_by TEXT;
