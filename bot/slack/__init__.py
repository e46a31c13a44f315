"""The Slack face: slack-bolt's AsyncApp in, Block Kit out; built by `bot.slack.app.build_slack`."""
