"""Members and access: custom roles, per-member access settings, invitations and the audit log (issue 5).

The policy itself (who may see and do what) is ``inbox/permissions.py``; this app holds the rows it reads and
the services that change them.
"""
