from orderbook_cli.main import main

raise SystemExit(main())
