"""The Microsoft Teams face: Agents SDK hosting, Adaptive Cards, proactive messages, app package."""
