"""What the public pages' templates call: the filters and functions that
therapyinfo/jinja2.py puts in their environment."""
