"""`launchgate sandbox`: the real bot against a built-in local Slack workspace.

Nothing outside this package imports it (the CLI loads it lazily), so `launchgate serve`
never reaches sandbox code.
"""
