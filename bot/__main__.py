"""`python -m bot` is `incident-bot`."""

from bot.cli import main

if __name__ == "__main__":
    main()
