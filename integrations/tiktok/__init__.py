"""TikTok direct messages (Business Messaging API): client, webhook parsing, signatures and the adapter.

Documentation: https://business-api.tiktok.com/portal/docs?id=1832184403754242 . See ``adapter.py``.
"""
