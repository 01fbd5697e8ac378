"""The local daemon the Lightroom plug-in talks to (Flask app, served by waitress on 127.0.0.1)."""
