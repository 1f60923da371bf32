"""Print a fresh environment file for `make prod-like`: production mode with generated secrets."""

import secrets

from cryptography.fernet import Fernet

print(f"""SWITCHBOARD_ENV=production
SECRET_KEY={secrets.token_urlsafe(50)}
FIELD_ENCRYPTION_KEY={Fernet.generate_key().decode()}
DATABASE_URL=postgres://postgres@127.0.0.1:5432/switchboard_prod
REDIS_URL=redis://127.0.0.1:6379/0
PUBLIC_BASE_URL=http://127.0.0.1:8080
CSRF_TRUSTED_ORIGINS=http://127.0.0.1:8080
# Plain HTTP on loopback: a real deployment terminates TLS in front and keeps secure cookies on.
SECURE_COOKIES=false
""")
