"""The disks example's blueprints."""
