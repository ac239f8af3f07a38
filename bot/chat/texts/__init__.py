"""The Vietnamese wording of the conversations, in rich text, kept apart from the flows."""
