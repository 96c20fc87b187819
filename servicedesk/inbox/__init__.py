"""The practice's mailbox (``INBOX_URL``), read over IMAP into ``InboundMail`` rows, once each."""
