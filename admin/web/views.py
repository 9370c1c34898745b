"""The pages behind the login."""
