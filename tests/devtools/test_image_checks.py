"""The image check's sign-up must never be refused by the site's own rules."""

import random

from django.contrib.auth.password_validation import validate_password

from devtools.image_checks import unlike_password
from users.models import User


def test_the_image_checks_password_passes_every_validator_for_any_address():
    rng = random.Random(20261206)
    for _ in range(300):
        hex_part = f"{rng.getrandbits(32):08x}"
        address = f"image-check-{hex_part}@example.com"
        user = User(
            username=address.split("@")[0],
            first_name="Image",
            last_name="Check",
            email=address,
        )
        validate_password(unlike_password(), user)  # raises if refused
