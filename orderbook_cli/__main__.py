from orderbook_cli.cli import main

raise SystemExit(main())
