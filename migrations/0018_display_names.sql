-- An optional name the account goes by: the header, mail greetings and the admin area use it
-- where set. Personal data like the address, so it goes out with the export and is cleared when
-- an account is anonymised.
ALTER TABLE users ADD COLUMN display_name TEXT;
