import sys

from lambdalens.cli.main import main

sys.exit(main())
