package router

// RETA is the distributor's indirection table (bucket -> worker), nil
// without a distributor or once stopping.
func (r *Router) RETA() []int {
	var out []int
	r.whileRunning(func() error { out = r.reta(); return nil }) //nolint:errcheck // nil when stopping
	return out
}

func (r *Router) reta() []int {
	if r.dp.RETASize() == 0 {
		return nil
	}
	return r.dp.RETA()
}

// SetRETA replaces the RETA while forwarding; a moved bucket follows only
// once its old worker has sent what it holds of it, so flows keep order.
func (r *Router) SetRETA(reta []int) error {
	return r.whileRunning(func() error { return r.dp.SetRETA(reta) })
}
