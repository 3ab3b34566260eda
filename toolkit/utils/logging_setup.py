"""One logging format for every CLI."""
import logging


def setup_logging(verbose=False):
    """Log to stderr as 'time (module:line) LEVEL: message'."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
        force=True,
    )
