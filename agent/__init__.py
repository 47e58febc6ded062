"""The application: config, engine, executors, state, command line."""
