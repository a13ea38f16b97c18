from labctl.cli import main
import sys
sys.exit(main())
