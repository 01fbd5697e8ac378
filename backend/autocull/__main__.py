from autocull.cli import main

raise SystemExit(main())
