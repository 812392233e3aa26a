from customer2vec.cli import cli

if __name__ == "__main__":
    cli(prog_name="customer2vec")
