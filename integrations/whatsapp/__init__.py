"""WhatsApp Business Cloud API channel: https://developers.facebook.com/docs/whatsapp/cloud-api"""
