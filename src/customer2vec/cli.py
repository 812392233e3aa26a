def cli():
    raise SystemExit("cli not built yet")
