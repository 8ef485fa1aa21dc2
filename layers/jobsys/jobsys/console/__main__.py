import sys

from jobsys.console.registry import CONSOLE_COMMANDS


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("list", "-h", "--help"):
        width = max(len(name) for name in CONSOLE_COMMANDS)
        print("Usage: jobs-console NAME [PARAMS...]\n\nCommands:")
        for command in CONSOLE_COMMANDS.values():
            print(f"  {command.name:<{width}}  {command.usage:<10}  {command.help}")
        return 0 if args else 2
    name, params = args[0], args[1:]
    found = CONSOLE_COMMANDS.get(name)
    if found is None:
        print(f"jobs-console: unknown command '{name}' (see `jobs-console list`)", file=sys.stderr)
        return 2
    return found.load()(params)


if __name__ == "__main__":
    sys.exit(main())
