from meterd.server.cli import main

main()
