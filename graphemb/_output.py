"""``set_output`` for the embedders whose outputs are always DataFrames keyed by id.

scikit-learn's automatic output wrapping calls ``transform(X)`` with a required
``X``; graphemb's embedders take ``transform(nodes=None)`` (all nodes by
default) and already return an embeddings DataFrame (index = node id, columns
``emb_*``). They opt out of the wrapping (``auto_wrap_output_keys=None`` in the
class statement) and use this mixin, so ``set_output(transform="pandas")``
works in pipelines and changes nothing: the output is pandas either way.
"""

from __future__ import annotations

from typing import Any

from nnstore import public_name

__all__ = ["FrameOutputMixin"]

_OUTPUTS = (None, "default", "pandas")


class FrameOutputMixin:
    """Adds scikit-learn's ``set_output`` to an estimator whose outputs are DataFrames."""

    def set_output(self, *, transform: str | None = None) -> Any:
        """Choose the container of ``transform`` / ``fit_transform`` outputs.

        Parameters
        ----------
        transform : {"default", "pandas"} or None
            Both give an embeddings DataFrame (index = id, float32 columns
            ``emb_*``), which is this estimator's only output container;
            ``None`` leaves the setting unchanged.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For any other container (``"polars"``, ...).
        """
        if transform not in _OUTPUTS:
            raise ValueError(f"{public_name(self)}.set_output: transform must be 'default' or 'pandas' "
                             f"(the outputs are DataFrames indexed by id), got {transform!r}")
        if transform is not None:
            self._sklearn_output_config = {"transform": transform}
        return self
