-- The PostgreSQL store's step of this number converts its times to Unix seconds and its JSON
-- documents to text, which is how this store has always kept them: nothing to change here.
SELECT 1;
