"""Pure steady states and their observables (Secs. III-IV of the paper).

Two representations share one interface:

* :class:`PairState` -- two ensembles, held as the coefficients c_J of Eq. (4); every one-body
  expectation value and covariance costs O(S) (S up to 10^6 and beyond), the product vector is
  built only on request;
* :class:`ProductState` -- any even L, held as the product-basis vector (ensemble 1 most
  significant, m = S..-S).

Ensembles are numbered 1..L in arguments that name ensembles (as in the paper); operators are
:class:`~labctl.sim.operators.SpinSum` objects or strings such as ``"S1x - S2x"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property

import numpy as np

from labctl.errors import InputError, StateTooLargeError
from labctl.sim import pair
from labctl.sim.mixed import PhaseAveragedState, z_diagonal
from labctl.sim.operators import SpinSum, as_spin_sum
from labctl.sim.spin import dimension, spin_matrices

#: Largest product-basis vector built without being asked to go further (complex amplitudes).
MAX_AMPLITUDES = 2**26


def check_size(spin: float, n_ensembles: int, max_amplitudes: int = MAX_AMPLITUDES) -> int:
    """Return (2S+1)^L, or raise StateTooLargeError when it exceeds ``max_amplitudes``."""
    size = dimension(spin) ** n_ensembles
    if size > max_amplitudes:
        raise StateTooLargeError(
            f"the product-basis vector of L = {n_ensembles} ensembles of spin S = {spin:g} has "
            f"(2S+1)^L = {size:.3g} amplitudes ({16 * size / 2**30:.3g} GiB), above the limit of "
            f"{max_amplitudes:.3g}; use smaller S or L (for two ensembles use the c_J observables, "
            "which need no product vector), or raise max_amplitudes"
        )
    return size


class SteadyState:
    """Common interface of the pure steady states of Eq. (2).

    Attributes: ``spin`` S, ``detunings`` (delta_1..delta_L), ``rabi`` Omega, ``chi``, and
    ``vector`` (normalised complex product-basis amplitudes). Rates share one unit (see
    :mod:`labctl.sim.model`).
    """

    def __init__(self, spin: float, detunings: Sequence[float], rabi: float, chi: float):
        self.spin = float(spin)
        self.detunings = tuple(float(x) for x in detunings)
        self.rabi = float(rabi)
        self.chi = float(chi)

    @property
    def n_ensembles(self) -> int:
        return len(self.detunings)

    @property
    def dim(self) -> int:
        """Dimension 2S + 1 of one ensemble."""
        return dimension(self.spin)

    # -- representation hooks ---------------------------------------------------------------
    @property
    def vector(self) -> np.ndarray:
        raise NotImplementedError

    def _image(self, coeffs: np.ndarray) -> np.ndarray:
        """A|psi> for A = sum coeffs[l, a] S_l^a, in the representation's own layout."""
        raise NotImplementedError

    def _ket(self):
        raise NotImplementedError

    def _inner(self, a, b) -> complex:
        """<a|b> for two kets in the representation's layout."""
        raise NotImplementedError

    # -- one-body observables ---------------------------------------------------------------
    def _op(self, op: SpinSum | str) -> SpinSum:
        return as_spin_sum(op, self.n_ensembles)

    def expect(self, op: SpinSum | str) -> float:
        """<A> for a Hermitian one-body combination A."""
        return float(np.real(self._inner(self._ket(), self._image(self._op(op).coeffs))))

    def covariance_matrix(self, ops: Iterable[SpinSum | str]) -> np.ndarray:
        """Symmetrised covariances Cov(A_i, A_j) = Re<A_i A_j> - <A_i><A_j>."""
        images = [self._image(self._op(op).coeffs) for op in ops]
        ket = self._ket()
        means = np.array([np.real(self._inner(ket, im)) for im in images])
        gram = np.array([[np.real(self._inner(a, b)) for b in images] for a in images])
        return gram - np.outer(means, means)

    def covariance(self, a: SpinSum | str, b: SpinSum | str) -> float:
        """Symmetrised covariance Cov(A, B)."""
        return float(self.covariance_matrix([a, b])[0, 1])

    def variance(self, op: SpinSum | str) -> float:
        """Var(A) = <A^2> - <A>^2."""
        return float(self.covariance_matrix([op])[0, 0])

    def qfi(self, generator: SpinSum | str | Sequence[float] | None = None) -> float:
        """Quantum Fisher information 4 Var(G) of the pure state for the phase generator G (Eq. 10).

        ``generator`` is a SpinSum/string, or per-ensemble weights c_l for G = sum_l c_l S_l^z;
        the default is the differential phase S_1^z - S_2^z of two ensembles.
        """
        return 4.0 * self.variance(self._generator(generator))

    def qfi_matrix(self) -> np.ndarray:
        """F_kl = 4 Cov(S_k^z, S_l^z) (Eq. 27)."""
        n = self.n_ensembles
        return 4.0 * self.covariance_matrix([SpinSum(z=np.eye(n)[l]) for l in range(n)])

    def _generator(self, generator) -> SpinSum:
        if generator is None:
            if self.n_ensembles != 2:
                raise InputError(f"give the generator for L = {self.n_ensembles} ensembles, e.g. z weights (1, -1, -1, 1)")
            return SpinSum(z=(1.0, -1.0))
        if isinstance(generator, (SpinSum, str)):
            return self._op(generator)
        weights = np.asarray(generator, dtype=float)
        if weights.shape != (self.n_ensembles,):
            raise InputError(f"generator weights {generator!r} need one value per ensemble ({self.n_ensembles})")
        return SpinSum(z=weights)

    # -- two ensembles (Sec. III) -----------------------------------------------------------
    def _require_pair(self, what: str) -> None:
        if self.n_ensembles != 2:
            raise InputError(f"{what} is defined for two ensembles (Sec. III); this state has L = {self.n_ensembles}")

    def differential_polarization(self) -> float:
        """<S_1^x - S_2^x> (Eq. 11), the spin length a Ramsey measurement reads out."""
        self._require_pair("the differential polarization <S1x - S2x>")
        return self.expect(SpinSum(x=(1.0, -1.0)))

    def wineland(self) -> float:
        """Two-mode Wineland parameter xi^2 = 4S Var(S1y + S2y) / <S1x - S2x>^2 (Eq. 12)."""
        self._require_pair("the two-mode Wineland parameter")
        return self._wineland(self.differential_polarization(), self.variance(SpinSum(y=(1.0, 1.0))))

    def _wineland(self, length: float, var_sum_y: float) -> float:
        return 4 * self.spin * var_sum_y / length**2 if length != 0.0 else float("inf")

    def figures_of_merit(self) -> dict[str, float | np.ndarray]:
        """The numbers an operator asks for first: QFI, squeezing, spin length (L = 2) or the QFI
        matrix and the Hadamard-mode QFIs (L = 4, Eq. 29)."""
        s = self.spin
        out: dict[str, float | np.ndarray] = {"spin": s, "n_ensembles": self.n_ensembles}
        if self.n_ensembles == 2:
            length = self.differential_polarization()
            var_sum_y = self.variance(SpinSum(y=(1.0, 1.0)))
            out.update(
                qfi=self.qfi(),
                qfi_heisenberg=16 * s * (s + 1) / 3,
                qfi_sql=4 * s,
                differential_polarization=length,
                var_sum_y=var_sum_y,
                wineland_xi2=self._wineland(length, var_sum_y),
            )
        else:
            fisher = self.qfi_matrix()
            out["qfi_matrix"] = fisher
            if self.n_ensembles == 4:
                for name, signs in HADAMARD_MODES.items():
                    w = np.array(signs, dtype=float)
                    out[f"qfi_{name}"] = float(w @ fisher @ w)
        return out

    # -- states, subsystems, fidelities (need the product vector) ----------------------------
    def tensor(self) -> np.ndarray:
        """The product vector as an L-index tensor psi[i_1, ..., i_L] (i = S - m)."""
        return self.vector.reshape((self.dim,) * self.n_ensembles)

    def _subsystem_matrix(self, ensembles: Sequence[int]) -> np.ndarray:
        keep = _ensemble_indices(ensembles, self.n_ensembles)
        rest = [l for l in range(self.n_ensembles) if l not in keep]
        psi = np.transpose(self.tensor(), keep + rest)
        return psi.reshape(self.dim ** len(keep), -1)

    def reduced_density_matrix(self, ensembles: Sequence[int]) -> np.ndarray:
        """rho_A = tr_B |psi><psi| for the ensembles A (1-based, in the order given)."""
        psi = self._subsystem_matrix(ensembles)
        return psi @ psi.conj().T

    def entropy(self, ensembles: Sequence[int]) -> float:
        """von Neumann entropy -tr(rho_A ln rho_A) of the ensembles A (Fig. 5), natural log."""
        sv = np.linalg.svd(self._subsystem_matrix(ensembles), compute_uv=False)
        p = sv**2
        p = p[p > 1e-300]
        return float(-np.sum(p * np.log(p)) + 0.0)

    def fidelity(self, other: SteadyState | np.ndarray) -> float:
        """|<psi|phi>|^2 with another pure state (state or vector), or <psi|rho|psi> with a density matrix."""
        psi = self.vector
        target = other.vector if isinstance(other, SteadyState) else np.asarray(other)
        if target.shape == psi.shape:
            return float(abs(np.vdot(psi, target)) ** 2)
        if target.shape == (psi.size, psi.size):
            return float(np.real(np.vdot(psi, target @ psi)))
        raise InputError(f"fidelity needs a state of dimension {psi.size} or a {psi.size}x{psi.size} density matrix, got shape {target.shape}")

    def phase_averaged(
        self, generators: Sequence[Sequence[float] | str] = ("common",), sigma: float | None = None
    ) -> PhaseAveragedState:
        """The state averaged over random phases exp(-i theta G) for each generator G (Eq. 15).

        ``generators``: z-weights per ensemble, or ``"common"`` (all ones, rho_c) and ``"gradient"``
        (weights L-1, L-3, ..., 1-L: (3, 1, -1, -3) for four ensembles, rho_c+g of Sec. IV.B).
        ``sigma=None`` averages uniformly over 2 pi (complete dephasing between different
        eigenvalues, the worst case); a number gives Gaussian phases of that standard deviation.
        """
        diagonals = [z_diagonal(self.spin, self.n_ensembles, self.phase_weights(g)) for g in generators]
        return PhaseAveragedState(self.vector, diagonals, sigma=sigma, spin=self.spin, n_ensembles=self.n_ensembles)

    def phase_weights(self, g) -> np.ndarray:
        """z-weights of a phase generator: "common" (all ones), "gradient" (L-1, L-3, ..., 1-L) or explicit."""
        n = self.n_ensembles
        if isinstance(g, str):
            if g == "common":
                return np.ones(n)
            if g == "gradient":
                return n - 1 - 2.0 * np.arange(n)
            raise InputError(f"unknown phase generator {g!r}; valid: 'common', 'gradient' or z-weights per ensemble")
        w = np.asarray(g, dtype=float)
        if w.shape != (n,):
            raise InputError(f"phase generator weights {g!r} need one value per ensemble ({n})")
        return w

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(spin={self.spin:g}, detunings={list(self.detunings)}, "
            f"rabi={self.rabi:g}, chi={self.chi:g})"
        )


#: Hadamard modes of four ensembles (App. C, Eq. 29): name -> signs of S_l^z.
HADAMARD_MODES = {
    "++++": (1, 1, 1, 1),
    "++--": (1, 1, -1, -1),
    "+-+-": (1, -1, 1, -1),
    "+--+": (1, -1, -1, 1),
}


def _ensemble_indices(ensembles: Sequence[int], n: int) -> list[int]:
    idx = [int(e) - 1 for e in ensembles]
    if not idx or any(not 0 <= i < n for i in idx) or len(set(idx)) != len(idx):
        raise InputError(f"ensembles {list(ensembles)!r} must be distinct numbers in 1..{n}")
    return idx


class ProductState(SteadyState):
    """A steady state held as its product-basis vector (any L)."""

    def __init__(self, spin: float, detunings: Sequence[float], rabi: float, chi: float, vector: np.ndarray):
        super().__init__(spin, detunings, rabi, chi)
        self._vector = vector / np.linalg.norm(vector)

    @property
    def vector(self) -> np.ndarray:
        return self._vector

    def _ket(self) -> np.ndarray:
        return self._vector

    def _inner(self, a: np.ndarray, b: np.ndarray) -> complex:
        return np.vdot(a, b)

    def _image(self, coeffs: np.ndarray) -> np.ndarray:
        ops = spin_matrices(self.spin)
        d, n = self.dim, self.n_ensembles
        out = np.zeros_like(self._vector)
        for l in range(n):
            if not np.any(coeffs[l]):
                continue
            local = (coeffs[l, 0] * ops.x + coeffs[l, 1] * ops.y + coeffs[l, 2] * ops.z).toarray()
            psi = self._vector.reshape(d**l, d, d ** (n - l - 1))
            out += np.einsum("ij,ajb->aib", local, psi).reshape(-1)
        return out


class PairState(SteadyState):
    """The two-ensemble steady state sum_J c_J |J, -J> (Eq. 4)."""

    def __init__(self, spin: float, detunings: Sequence[float], rabi: float, chi: float):
        super().__init__(spin, detunings, rabi, chi)
        delta_diff = self.detunings[0] - self.detunings[1]
        self.coefficients = pair.coefficients(self.spin, delta_diff, self.rabi, self.chi)
        self._algebra = pair.PairAlgebra(self.spin, self.coefficients)

    def _ket(self) -> pair.Image:
        return self._algebra.state

    def _inner(self, a: pair.Image, b: pair.Image) -> complex:
        return pair.inner(a, b)

    def _image(self, coeffs: np.ndarray) -> pair.Image:
        return self._algebra.image(coeffs)

    @cached_property
    def vector(self) -> np.ndarray:
        """Product-basis amplitudes sum_J c_J <m1 m2|J, -J>, built on first use."""
        check_size(self.spin, 2)
        return pair.product_vector(self.spin, self.coefficients)
