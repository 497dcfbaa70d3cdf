"""Email templates: MJML compilation, the personalisation language and its validation."""
