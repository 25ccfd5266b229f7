package queued

// messagePQ is a min-heap of messages by pri: the in-flight queue orders by
// deadline, the deferred queue by due time. Each message knows its index,
// so FIN and TOUCH remove or move it in O(log n).
type messagePQ []*Message

func (pq *messagePQ) push(m *Message) {
	m.index = len(*pq)
	*pq = append(*pq, m)
	pq.up(m.index)
}

// popDue removes and returns the first message whose pri is at or before
// now, or nil.
func (pq *messagePQ) popDue(now int64) *Message {
	if len(*pq) == 0 || (*pq)[0].pri > now {
		return nil
	}
	return pq.remove(0)
}

func (pq *messagePQ) remove(i int) *Message {
	old := *pq
	n := len(old) - 1
	m := old[i]
	if i != n {
		old.swap(i, n)
		*pq = old[:n]
		if !pq.down(i) {
			pq.up(i)
		}
	} else {
		*pq = old[:n]
	}
	old[n] = nil
	m.index = -1
	return m
}

// fix restores the heap after m's pri changed.
func (pq *messagePQ) fix(m *Message) {
	if !pq.down(m.index) {
		pq.up(m.index)
	}
}

func (pq messagePQ) swap(i, j int) {
	pq[i], pq[j] = pq[j], pq[i]
	pq[i].index = i
	pq[j].index = j
}

func (pq messagePQ) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if pq[parent].pri <= pq[i].pri {
			return
		}
		pq.swap(i, parent)
		i = parent
	}
}

func (pq messagePQ) down(i int) bool {
	start := i
	for {
		child := 2*i + 1
		if child >= len(pq) {
			break
		}
		if r := child + 1; r < len(pq) && pq[r].pri < pq[child].pri {
			child = r
		}
		if pq[i].pri <= pq[child].pri {
			break
		}
		pq.swap(i, child)
		i = child
	}
	return i > start
}
