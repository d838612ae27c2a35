from snowbot.cli import main

raise SystemExit(main())
