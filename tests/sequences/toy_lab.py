"""A small, self-consistent lab description in dimensionless units (kappa = 1) for tests.

Frequencies are small numbers ("Hz" of a toy world) so that a time-dependent reference
simulation with the cavity mode kept stays cheap; the planner treats them like any other.
"""

from __future__ import annotations

F_ATOM = 1000.0  # |down> -> |up> at zero current
F_CAVITY = 10000.0  # optical resonance


def toy_hardware(n: int, positions=None, *, budget: float = 0.1, photon_detuning: float = 0.0, mirror: bool = False,
                 margin: float = 0.3, beat_tolerance: float = 0.05, max_current: float = 4.0, aom_order: int = 1,
                 sideband: int = 1) -> dict:
    """Hardware of the toy lab; ``aom_order`` and ``sideband`` flip the two signal chains."""
    positions = list(positions if positions is not None else range(n))
    return {
        "schema": "labctl.hardware",
        "version": 1,
        "name": f"toy-l{n}",
        "ensembles": {"count": n, "positions_m": [float(p) for p in positions], "zeeman_hz_per_t": 10.0},
        "coil": {"gradient_t_per_m_per_a": 1.0, "max_current_a": max_current, "max_ramp_a_per_s": 100.0},
        "rabi": {"awg_channels": [1, 2], "lo_hz": F_ATOM - sideband * 500.0, "sideband": sideband,
                 "if_band_hz": [100.0, 2000.0], "max_amplitude_v": 1.0},
        "raman": {
            "awg_channel": 3,
            "aom_order": aom_order,
            "aom_band_hz": [100.0, 5000.0],
            "excited_detuning_hz": 1000.0,
            "max_amplitude_v": 1.0,
            "max_tones": 64,
            "photon_detuning_hz": photon_detuning,
            "bad_cavity_margin": margin,
            "mirror_pairs": mirror,
        },
        "readout": {"pi2_duration_s": 0.5, "readout_duration_s": 1.0, "dark_time_s": 1.0},
        "awg": {"device": "HDAWG8", "sample_rate_hz": 2.4e9},
        "budget": {"infidelity": budget, "beat_tolerance": beat_tolerance, "guard_band": 100.0},
    }


def toy_calibration(n: int, positions=None, *, spacing_per_a: float = 10.0, kappa: float = 1.0,
                    rabi_hz_per_v=None, coupling_hz=None, aom_order: int = 1) -> dict:
    """Calibration of the toy lab (the Raman carrier sits on the side of the AOM order)."""
    positions = list(positions if positions is not None else range(n))
    return {
        "schema": "labctl.calibration",
        "version": 1,
        "hardware": f"toy-l{n}",
        "created": "2026-11-25T00:00:00Z",
        "ensembles": {
            "transition_hz_at_zero_current": [F_ATOM] * n,
            "transition_hz_per_a": [spacing_per_a * p for p in positions],
            "rabi_hz_per_v": list(rabi_hz_per_v or [10.0] * n),
        },
        "cavity": {"resonance_hz": F_CAVITY, "kappa_hz": kappa, "coupling_hz": list(coupling_hz or [100.0] * n)},
        "raman": {"carrier_hz": F_CAVITY - F_ATOM - aom_order * 2500.0, "rabi_hz_per_v": 1000.0},
    }
