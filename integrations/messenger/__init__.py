"""Messenger Platform channel: https://developers.facebook.com/docs/messenger-platform"""
