"""A vectorisable minimum of two float64 for the compiled assignment kernels.

numba lowers ``min(a, b)`` to a compare and a select without fast-math flags, and LLVM's loop
vectoriser then leaves a running minimum (``lowest = min(lowest, s)``) scalar.  ``fmin`` emits
LLVM's ``minnum`` intrinsic with the ``nnan`` and ``nsz`` flags, which the vectoriser turns into
packed ``vminpd`` reductions.  For non-NaN operands it returns the smaller operand exactly (one
of the two, bit for bit; of ``-0.0`` and ``+0.0`` either), so equality tests against the result
stay exact.  With a NaN operand the result is unspecified: callers make sure that any answer
still lets them terminate.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["fmin"]


@intrinsic
def fmin(typingctx, a, b):  # pragma: no cover - compiled
    """``min(a, b)`` for float64 ``a``, ``b`` (see the module docstring)."""
    if not (isinstance(a, types.Float) and isinstance(b, types.Float)):
        return None
    sig = types.float64(types.float64, types.float64)

    def codegen(context, builder, signature, args):
        dbl = ir.DoubleType()
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(dbl, [dbl, dbl]), "llvm.minnum.f64"
        )
        return builder.call(fn, list(args), fastmath=("nnan", "nsz"))

    return sig, codegen
