"""dsplatform's end-to-end harness: a pytest plugin (harness.plugin) and the platform's scenarios."""
