//! Registering, listing and removing trusted delegates (the command line and the admin API).
