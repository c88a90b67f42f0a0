from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person who signs in. Site roles live on sites.Membership."""

    is_programme_reviewer = models.BooleanField(
        "programme reviewer",
        default=False,
        help_text="Reads every site (National i-THRIVE programme team); edits nothing.",
    )

    def __str__(self) -> str:
        return self.get_full_name() or self.username
