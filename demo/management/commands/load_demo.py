"""Load the fictional demo localities (demo/localities/) and print how to sign in."""

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.localities import DemoDataError
from demo.services import DEMO_PASSWORD, demo_load


class Command(BaseCommand):
    help = (
        "Load the fictional sites in demo/localities/ (Northbridge and Eastmere) with services, a THRIVE mapping "
        "and demo accounts. Safe to run again: sites already loaded are left as they are unless --reset is given."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo sites, with any changes made to them, and load them again.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off, on a server that holds nothing but demo data.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo accounts, an administrator among them, share a published password.
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "load_demo creates accounts with a published password, including an administrator. "
                "Run it with DEBUG on, or add --force on a server that holds only demo data."
            )
        try:
            result = demo_load(reset=options["reset"])
        except DemoDataError as error:
            raise CommandError(str(error)) from error

        for site_result in result.sites:
            site = site_result.site
            if site_result.organisations:
                detail = (
                    f"{site_result.services} services from {site_result.organisations} organisations, "
                    f"{site_result.offers} offers mapped to THRIVE groupings"
                )
                self.stdout.write(self.style.SUCCESS(f"{site.name} ({site.slug}): {site_result.action}: {detail}"))
            else:
                self.stdout.write(f"{site.name} ({site.slug}): {site_result.action} (use --reset to load it again)")

        rows = [("Username", "Password", "Role")]
        rows += [(account.username, DEMO_PASSWORD, account.description) for account, _ in result.accounts]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        rule = "  ".join("-" * width for width in widths)
        self.stdout.write("\nDemo sign-ins (fictional data only):\n")
        for number, row in enumerate(rows):
            self.stdout.write("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())
            if number == 0:
                self.stdout.write(rule)
        self.stdout.write(
            f"\nAPI token for {result.token_for}: {result.token}\n"
            f'Try it: curl -H "Authorization: Token {result.token}" http://127.0.0.1:8000/api/schema/\n'
            "The API is described at http://127.0.0.1:8000/api/docs/"
        )
