"""All Block Kit the bot sends, built with slack_sdk's models.

Nothing outside this package assembles blocks; everything user-typed passes
through `text.esc` before it reaches mrkdwn.
"""
