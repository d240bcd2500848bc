"""The book's experiments: what is specific to one chapter (which task, gene, sizes, seeds,
the sentence of a verdict), built on the library and called by chapters and widgets.

The library (every other module of genotutor) never imports this package.

- :mod:`genotutor.studies.planted`: the planted-task models of chapters 1-5 and 8
  (surrogates).
- :mod:`genotutor.studies.limits`: chapter 5's dropout-redundancy and depth experiments
  (limits 7 and 8).
- :mod:`genotutor.studies.fourier_prior`: chapter 7's experiment with and without the
  Fourier attribution prior.
- :mod:`genotutor.studies.splicing_teachers`: chapter 9's teachers (a CNN on simulated
  exons, a network on the genome's 5' splice sites), trained once and cached.
- :mod:`genotutor.studies.spliceai_hbb`: chapter 10's SpliceAI teacher in the human
  beta-globin gene.
- :mod:`genotutor.studies.hbb_variants`: chapter 11's HBB variants (clinical splice
  variants with their reported mechanisms, framework polymorphisms, MPSA neighbours).
- :mod:`genotutor.studies.ledger` (with :mod:`genotutor.studies.measures` and
  :mod:`genotutor.studies.ledger_page`): the claims ledger, the rows each chapter records
  about its sources' claims (measurement, uncertainty, verdict) and the page that
  gathers them.
- :mod:`genotutor.studies.settings`: the re-draw of every seed (``GENOTUTOR_SEED_OFFSET``,
  :func:`study_seed`) and torch's thread count (``GENOTUTOR_THREADS``), which every
  chapter sets in its first cell (:func:`setup_chapter`).
"""

from genotutor.studies.settings import setup_chapter, study_seed

__all__ = ["setup_chapter", "study_seed"]
