"""The post-mortem's review and sign-off: the workflow, its grammar and its Slack messages."""
