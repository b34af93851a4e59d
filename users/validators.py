"""The course's password rules, as a Django password validator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from django.contrib.auth.password_validation import PasswordValidator

# The course's examples of a special character ("e.g."): any character that is
# neither a letter nor a digit counts, so "Tr0ub4dor-horse-battery" passes.
SPECIAL_EXAMPLES = "!@#$%^&*()"


class CoursePasswordValidator:
    """At least 8 characters, an uppercase letter, a digit and a special character
    (anything but a letter or a digit: punctuation, a symbol, a space)."""

    def __init__(self, min_length: int = 8) -> None:
        self.min_length = min_length

    def validate(self, password: str, user: object | None = None) -> None:
        errors = [
            ValidationError(message, code=code)
            for code, message, broken in self._rules(password)
            if broken
        ]
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return (
            f"Use at least {self.min_length} characters, with an uppercase letter, "
            f"a digit and a special character such as {SPECIAL_EXAMPLES} or -."
        )

    def _rules(self, password: str) -> list[tuple[str, str, bool]]:
        return [
            (
                "password_too_short",
                f"Use at least {self.min_length} characters.",
                len(password) < self.min_length,
            ),
            (
                "password_no_upper",
                "Add an uppercase letter (A-Z).",
                not any(char.isupper() for char in password),
            ),
            (
                "password_no_digit",
                "Add a digit (0-9).",
                not any(char.isdigit() for char in password),
            ),
            (
                "password_no_symbol",
                "Add a special character: anything but a letter or a digit, "
                f"such as {SPECIAL_EXAMPLES} or -.",
                all(char.isalnum() for char in password),
            ),
        ]


def account_password_validators() -> list[PasswordValidator]:
    """The course's rules plus every validator in AUTH_PASSWORD_VALIDATORS.

    A MinimumLengthValidator no stricter than the course's rule is dropped, as is
    the course's own rule should settings list it: either would repeat the same
    complaint.
    """
    course = CoursePasswordValidator()
    configured = [
        validator
        for validator in password_validation.get_default_password_validators()
        if not isinstance(validator, CoursePasswordValidator)
        and not _is_weaker_length_rule(validator, course.min_length)
    ]
    return [course, *configured]


def _is_weaker_length_rule(validator: object, min_length: int) -> bool:
    return (
        isinstance(validator, password_validation.MinimumLengthValidator)
        and validator.min_length <= min_length
    )
