from snowbot.app.cli import main

raise SystemExit(main())
